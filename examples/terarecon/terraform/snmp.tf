# SNMP (the guide's "SNMP Configuration", UDP 161 in its port table): the network operations
# centre reads the VIPs and the iNtuition servers (LBAPPLIANCE-MIB, mibs/ in the repository)
# with the community `noc` or the SNMPv3 user `nocv3` (SHA, AES), and, when an NMS address is
# given, receives v3 informs when a server goes down or up, the pair fails over or the
# certificate nears its expiry. The appliance replicates these settings to the secondary.
# The secrets are write-only (never in the state): bump snmp_secrets_version to send changed
# ones.
resource "lbappliance_snmp" "noc" {
  count = var.snmp_enabled ? 1 : 0

  enabled        = true
  listen_address = var.snmp_listen_address
  port           = 161
  contact        = var.snmp_contact
  location       = var.snmp_location

  communities       = ["noc"]
  community_strings = { noc = var.snmp_community }

  users               = [{ name = "nocv3", auth_protocol = "sha", priv_protocol = "aes" }]
  user_auth_passwords = { nocv3 = var.snmp_auth_password }
  user_priv_passwords = { nocv3 = var.snmp_priv_password }

  trap_destinations = var.snmp_trap_address == null ? [] : [{ name = "nms", address = var.snmp_trap_address, port = 162, version = "v3", user = "nocv3" }]
  secrets_version   = var.snmp_secrets_version

  depends_on = [lbappliance_ha_pair.pair]
}
