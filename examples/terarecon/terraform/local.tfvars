# The loopback plan of examples/backends (npm run backends -- terarecon): the guide's
# 10.10.40.x as 127.0.40.x. `npm run demo` and the tests deploy with this file, giving the
# certificate files with -var.
vip_address = "127.0.40.217"

servers = [
  { label = "SERVER1", address = "127.0.40.6" },
  { label = "SERVER2", address = "127.0.40.7" },
]

certificate_label = "intuition-cert"
certificate_file  = "intuition-cert.crt"
private_key_file  = "intuition-cert.key"

# SNMP (snmp.tf) on the appliance's address of the plan (the guide's 10.10.40.2); enable it
# with -var snmp_enabled=true and the secrets as TF_VAR_snmp_community,
# TF_VAR_snmp_auth_password and TF_VAR_snmp_priv_password.
snmp_listen_address = "127.0.40.2"
snmp_contact        = "PACS team <pacs@hospital.test>"
snmp_location       = "Imaging data centre, rack 4"
