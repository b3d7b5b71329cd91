# 8.3: the guide's WebUI users "can also be authenticated against LDAP, LDAPS, Active
# Directory or Radius". Here: the hospital's Active Directory over LDAPS (or LDAP with
# StartTLS), its groups mapped to the appliance's roles; the local `loadbalancer` account
# stays the break-glass login. Left out (directory_url null), only local users log in.
resource "lbappliance_directory" "ad" {
  count = var.directory_url == null ? 0 : 1

  url           = var.directory_url
  start_tls     = var.directory_start_tls
  ca_pem        = file(var.directory_ca_file)
  bind_dn       = var.directory_bind_dn
  bind_password = var.directory_bind_password # write-only: never in the state
  user_base_dn  = var.directory_user_base_dn
  user_filter   = var.directory_user_filter
  group_search  = "memberOf"
  role_mappings = [for role, group in var.directory_role_groups : { group = group, role = role }]
}
