# Appendix 13.1: the guide recommends a clustered pair. Pairing copies the primary's
# configuration and users to the secondary, and from then on every change goes to the
# primary (this provider's endpoint) and reaches the secondary before it is acknowledged.
#
# The certificate and the VIPs depend on the pair (depends_on in main.tf), not the other way
# round: on a first apply the pair forms first and every VIP reaches both nodes as it is
# created; on destroy every VIP and the certificate are deleted on both nodes while the
# pair still stands, and the pair is broken last, so both appliances end up empty. Adding
# secondary_endpoint to a deployment that already runs (the guide's order: configure the
# primary fully, then add the secondary) pairs it with everything already there.
resource "lbappliance_ha_pair" "pair" {
  count = var.secondary_endpoint == null ? 0 : 1

  peer_endpoint = var.secondary_endpoint
  peer_password = var.secondary_password # write-only: used once, to pair
}
