# Insignia Medical Systems / Intelerad InSight (shared/seeds 003): a DICOM VIP and an HL7
# VIP, each in load-balanced mode and in failover mode, in front of the same servers.
#
# The guide puts DICOM on layer 4 direct routing, and so does this example by default
# (`dicom_forwarding`): the kernel forwards each association to a server by rewriting the
# destination MAC only, the server answers the modality directly from the VIP address (which
# it holds on its loopback, ARP problem solved: `lbappliance realserver`), and the PACS sees
# the modality's own address. DR has no port translation: the servers' port is the VIP's.
# HL7 is a layer 7 reverse proxy (a TCP VIP), as in the guide. See ../README.md.

locals {
  modes = {
    LB       = { address = var.load_balanced_vip_address, failover = false }
    Failover = { address = var.failover_vip_address, failover = true }
  }
  protocols = {
    DICOM = { port = var.dicom_port, forwarding = var.dicom_forwarding, check = "dicom" }
    HL7   = { port = var.hl7_port, forwarding = "proxy", check = "hl7" }
  }

  # Insignia-DICOM-LB, Insignia-HL7-LB, Insignia-DICOM-Failover, Insignia-HL7-Failover.
  vips = merge([
    for mode, m in local.modes : {
      for name, p in local.protocols : "Insignia-${name}-${mode}" => merge(p, { address = m.address, failover = m.failover })
    }
  ]...)

  # Every (VIP, server) pair; in failover mode every server after the first is a backup.
  real_servers = merge([
    for name, vip in local.vips : {
      for i, s in var.servers : "${name}/${s.label}" => {
        vip     = name
        label   = s.label
        address = s.address
        port    = vip.port
        backup  = vip.failover && i > 0
      }
    }
  ]...)
}

# Each DICOM association and each MLLP connection is complete in itself, so no
# persistence. The guide names no check: each VIP's check speaks its protocol, a DICOM
# C-ECHO on the DICOM VIPs and an HL7 message whose ACK must accept it on the HL7 VIPs, so a
# server that rejects associations or refuses messages is taken out although its port is open.
resource "lbappliance_virtual_service" "insignia" {
  for_each = local.vips

  label        = each.key
  ip_address   = each.value.address
  ports        = [each.value.port]
  protocol     = "tcp"
  forwarding   = each.value.forwarding
  health_check = { type = each.value.check }
  # A layer 4 VIP forwards packets and must say false; a proxy VIP keeps the default.
  forwarded_for = each.value.forwarding == "proxy"
}

resource "lbappliance_real_server" "insignia" {
  for_each = local.real_servers

  virtual_service_id = lbappliance_virtual_service.insignia[each.value.vip].id
  label              = each.value.label
  address            = each.value.address
  port               = each.value.port
  backup             = each.value.backup
}
