variable "load_balanced_vip_address" {
  description = "The address of the load-balanced VIPs: connections spread over every server."
  type        = string
}

variable "failover_vip_address" {
  description = "The address of the failover VIPs: the first server takes everything, the others only while it is down."
  type        = string
}

variable "servers" {
  description = "The InSight servers, in order of preference: in failover mode the first is the primary and the others its backups."
  type = list(object({
    label   = string
    address = string
  }))
}

variable "dicom_port" {
  description = "The DICOM port, on the VIPs and the servers alike (the guide gives none: 104 is DICOM's well-known port)."
  type        = number
  default     = 104
}

variable "hl7_port" {
  description = "The HL7 (MLLP) port, on the VIPs and the servers alike (the guide gives none: 2575 is the IANA port for HL7 over MLLP)."
  type        = number
  default     = 2575
}

variable "dicom_forwarding" {
  description = "How the DICOM VIPs forward: `direct-routing` as the guide says (layer 4 DR: the servers hold the VIP on a loopback with the ARP problem solved, answer the modality directly and see its own address; the appliance needs an interface on the servers' segment), `nat` or `snat` (layer 4 NAT), or `proxy` (a layer 7 TCP VIP, where layer 4 cannot work, e.g. the loopback plan of local.tfvars)."
  type        = string
  default     = "direct-routing"
  validation {
    condition     = contains(["direct-routing", "nat", "snat", "proxy"], var.dicom_forwarding)
    error_message = "dicom_forwarding is direct-routing, nat, snat or proxy."
  }
}
