# TeraRecon Aquarius iNtuition: the guide's three layer 7 VIPs on one address, in front of
# the iNtuition servers (shared/seeds 000 and 001, section 5.2 and chapter 9).

locals {
  servers = { for s in var.servers : s.label => s.address }
}

# 9.1: the certificate AVS presents to clients.
resource "lbappliance_certificate" "intuition" {
  label           = var.certificate_label
  certificate_pem = file(var.certificate_file)
  private_key_pem = file(var.private_key_file)
  # Write-only values are not compared between runs: bump this to send a new key with an
  # unchanged certificate.
  private_key_version = 1

  # Deleted while the HA pair (ha-pair.tf) still stands, so the secondary loses it too.
  depends_on = [lbappliance_ha_pair.pair]
}

# VIP 1, AVS-Redirect: plain HTTP on 80, answered with a 301 to the same URL on https, so
# no real servers and nothing to check.
resource "lbappliance_virtual_service" "avs_redirect" {
  label         = "AVS-Redirect"
  ip_address    = var.vip_address
  ports         = [80]
  protocol      = "http"
  force_https   = true
  redirect_code = 301
  health_check  = { type = "none" }
  depends_on    = [lbappliance_ha_pair.pair]
}

# VIP 2, AVS: HTTP/2 with TLS terminated by the appliance, one cookie per client so a
# viewing session stays on the server that renders it.
resource "lbappliance_virtual_service" "avs" {
  label          = "AVS"
  ip_address     = var.vip_address
  ports          = [443]
  protocol       = "http2"
  certificate_id = lbappliance_certificate.intuition.id
  persistence    = { mode = "http-cookie" }
  health_check   = { type = "connect" }
  depends_on     = [lbappliance_ha_pair.pair]
}

# The servers serve HTTPS on 443 with the same certificate (the guide asks for it on the
# real servers), so the appliance re-encrypts.
resource "lbappliance_real_server" "avs" {
  for_each           = local.servers
  virtual_service_id = lbappliance_virtual_service.avs.id
  label              = each.key
  address            = each.value
  port               = 443
  re_encrypt         = true
}

# VIP 3, AVS-AQI: the AQI protocol as plain TCP, a client kept on one server by its
# address, and the guide's idle limits: 92 s on the client side, 93 s on the server side.
resource "lbappliance_virtual_service" "avs_aqi" {
  label        = "AVS-AQI"
  ip_address   = var.vip_address
  ports        = [1200]
  protocol     = "tcp"
  persistence  = { mode = "source-ip" }
  health_check = { type = "connect" }
  timeouts = {
    client = 92
    server = 93
  }
  depends_on = [lbappliance_ha_pair.pair]
}

resource "lbappliance_real_server" "avs_aqi" {
  for_each           = local.servers
  virtual_service_id = lbappliance_virtual_service.avs_aqi.id
  label              = each.key
  address            = each.value
  port               = 1200
}
