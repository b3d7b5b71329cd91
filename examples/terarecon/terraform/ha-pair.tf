# Appendix 13.1: the guide recommends a clustered pair. Configure the primary fully, then
# add the secondary: pairing copies the configuration and users to it, and from then on
# every change goes to the primary (this provider's endpoint).
resource "lbappliance_ha_pair" "pair" {
  count = var.secondary_endpoint == null ? 0 : 1

  peer_endpoint = var.secondary_endpoint
  peer_password = var.secondary_password # write-only: used once, to pair

  depends_on = [
    lbappliance_real_server.avs,
    lbappliance_real_server.avs_aqi,
    lbappliance_virtual_service.avs_redirect,
  ]
}
