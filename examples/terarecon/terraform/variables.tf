variable "vip_address" {
  description = "The address of the three VIPs (the guide's 10.10.40.217)."
  type        = string
}

variable "servers" {
  description = "The iNtuition servers, each behind AVS (HTTPS, 443) and AVS-AQI (TCP, 1200)."
  type = list(object({
    label   = string
    address = string
  }))
}

variable "certificate_label" {
  description = "The label of the certificate AVS terminates TLS with."
  type        = string
  default     = "intuition-cert"
}

variable "certificate_file" {
  description = "PEM file with the certificate and its chain, leaf first."
  type        = string
}

variable "private_key_file" {
  description = "PEM file with the certificate's private key (sent to the appliance, never stored in the state)."
  type        = string
}

variable "secondary_endpoint" {
  description = "API endpoint of the secondary appliance of the HA pair the guide recommends; null leaves the appliance on its own."
  type        = string
  default     = null
}

variable "secondary_password" {
  description = "The secondary's loadbalancer password, used once to pair."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}
