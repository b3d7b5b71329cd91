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
