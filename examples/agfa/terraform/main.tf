# AGFA HealthCare Enterprise Imaging: the guide's 21 layer 7 VIPs (shared/seeds 002 and
# 004), every one in front of two pools: the core servers for VIPs 1-19, the web servers
# for VIPs 20 and 21. The table below is the guide's, row for row; where the guide is
# ambiguous the row says which reading it takes (see ../README.md).

locals {
  # HTTP (GET) checks of services that cannot answer HTTP (DICOM, plain TCP) ask each
  # server's health page about that service instead: GET /health/<port> on this port.
  health_page_port = 8099

  # One row per VIP. Every row has every attribute so the map has one type; null means the
  # appliance's default (server_port: the VIP's port; check port: the server's own port).
  vips = {
    "CoreServerClient-80" = { port = 80, protocol = "http", persistence = "http-cookie", check = "http", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerDICOM-104" = { port = 104, protocol = "tcp", persistence = "none", check = "http", check_port = local.health_page_port, check_path = "/health/104", server_port = null, re_encrypt = false, web = false }
    "CoreServerDICOM-110" = { port = 110, protocol = "tcp", persistence = "none", check = "http", check_port = local.health_page_port, check_path = "/health/110", server_port = null, re_encrypt = false, web = false }
    # VIP 4 is named -443 but listed on 81: it listens on 81 and re-encrypts to the core
    # servers' HTTPS service on 443, which its HTTPS (GET) check needs.
    "CoreServer-443"        = { port = 81, protocol = "http", persistence = "http-cookie", check = "https", check_port = null, check_path = null, server_port = 443, re_encrypt = true, web = false }
    "CoreServerHL7-2310"    = { port = 2310, protocol = "tcp", persistence = "none", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerHL7-2311"    = { port = 2311, protocol = "tcp", persistence = "none", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerDICOM-2762"  = { port = 2762, protocol = "tcp", persistence = "none", check = "http", check_port = local.health_page_port, check_path = "/health/2762", server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-4447" = { port = 4447, protocol = "tcp", persistence = "none", check = "http", check_port = local.health_page_port, check_path = "/health/4447", server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-5222" = { port = 5222, protocol = "tcp", persistence = "none", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-5223" = { port = 5223, protocol = "tcp", persistence = "none", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-7443" = { port = 7443, protocol = "tcp", persistence = "none", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerARR-6514"    = { port = 6514, protocol = "tcp", persistence = "none", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-8080" = { port = 8080, protocol = "http", persistence = "http-cookie", check = "http", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    # An HTTP VIP with an HTTPS (GET) check: the servers speak TLS on 8443, so re-encrypt.
    "CoreServerClient-8443" = { port = 8443, protocol = "http", persistence = "source-ip", check = "https", check_port = null, check_path = null, server_port = null, re_encrypt = true, web = false }
    # The guide gives VIP 15 no check: keep the default connect check, so a stopped server
    # still leaves the pool.
    "CoreServerClient-9080"  = { port = 9080, protocol = "http", persistence = "source-ip", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-9081"  = { port = 9081, protocol = "http", persistence = "source-ip", check = "http", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-10080" = { port = 10080, protocol = "http", persistence = "source-ip", check = "http", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-10123" = { port = 10123, protocol = "tcp", persistence = "source-ip", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    "CoreServerClient-10124" = { port = 10124, protocol = "tcp", persistence = "source-ip", check = "connect", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = false }
    # TCP on 443: TLS passes through to the web servers, which the HTTPS (GET) check asks.
    "WebServer-withXero" = { port = 443, protocol = "tcp", persistence = "none", check = "https", check_port = null, check_path = null, server_port = null, re_encrypt = false, web = true }
    # HTTP on 80 checked with HTTPS (GET): the web servers' HTTPS port reports the port-80
    # service at /health/80.
    "WebServer-withoutXero" = { port = 80, protocol = "http", persistence = "http-cookie", check = "https", check_port = 443, check_path = "/health/80", server_port = null, re_encrypt = false, web = true }
  }

  # Every (VIP, server) pair, keyed "<VIP>/<server>".
  real_servers = merge([
    for name, vip in local.vips : {
      for s in(vip.web ? var.web_servers : var.core_servers) : "${name}/${s.label}" => {
        vip        = name
        label      = s.label
        address    = s.address
        port       = coalesce(vip.server_port, vip.port)
        re_encrypt = vip.re_encrypt
      }
    }
  ]...)
}

resource "lbappliance_virtual_service" "agfa" {
  for_each = local.vips

  label       = each.key
  ip_address  = each.value.web ? var.web_vip_address : var.core_vip_address
  ports       = [each.value.port]
  protocol    = each.value.protocol
  persistence = { mode = each.value.persistence }
  health_check = {
    type = each.value.check
    port = each.value.check_port
    path = each.value.check_path
  }
}

resource "lbappliance_real_server" "agfa" {
  for_each = local.real_servers

  virtual_service_id = lbappliance_virtual_service.agfa[each.value.vip].id
  label              = each.value.label
  address            = each.value.address
  port               = each.value.port
  re_encrypt         = each.value.re_encrypt
}
