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

variable "snmp_enabled" {
  description = "Whether the appliance answers SNMP (snmp.tf); the secrets below are then required."
  type        = bool
  default     = false
}

variable "snmp_listen_address" {
  description = "The address the SNMP agent listens on (UDP 161): the appliance's management address, or 0.0.0.0."
  type        = string
  default     = "0.0.0.0"
}

variable "snmp_contact" {
  description = "sysContact: who looks after the appliance."
  type        = string
  default     = ""
}

variable "snmp_location" {
  description = "sysLocation: where the appliance is."
  type        = string
  default     = ""
}

variable "snmp_community" {
  description = "The read-only SNMPv2c community `noc` (write-only: never in the state)."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "snmp_auth_password" {
  description = "The SNMPv3 user nocv3's authentication (SHA) password (write-only)."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "snmp_priv_password" {
  description = "The SNMPv3 user nocv3's privacy (AES) password (write-only)."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "snmp_trap_address" {
  description = "The NMS that receives v3 informs (UDP 162); null sends none."
  type        = string
  default     = null
}

variable "snmp_secrets_version" {
  description = "Change it to send changed SNMP secrets (the state never holds them)."
  type        = number
  default     = 1
}

variable "directory_url" {
  description = "The directory WebUI and API users log in with (ldaps://dc01.hospital.example:636); null: local users only."
  type        = string
  default     = null
}

variable "directory_start_tls" {
  description = "Whether an ldap:// directory_url is upgraded with StartTLS (ldaps:// needs none)."
  type        = bool
  default     = false
}

variable "directory_ca_file" {
  description = "PEM file with the CA certificate that signed the directory's certificate."
  type        = string
  default     = null
}

variable "directory_bind_dn" {
  description = "The service account the appliance searches the directory with."
  type        = string
  default     = null
}

variable "directory_bind_password" {
  description = "The service account's password (write-only: never in the state); give it as TF_VAR_directory_bind_password."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "directory_user_base_dn" {
  description = "Where the directory's users are searched."
  type        = string
  default     = null
}

variable "directory_user_filter" {
  description = "The filter that finds a user by login name (Active Directory: sAMAccountName)."
  type        = string
  default     = "(sAMAccountName={username})"
}

variable "directory_role_groups" {
  description = "The directory group (DN) whose members get each role: admin, operator, read-only."
  type        = map(string)
  default     = {}
}
