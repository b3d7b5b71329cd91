variable "core_vip_address" {
  description = "The address of the CoreServer VIPs 1-19."
  type        = string
}

variable "web_vip_address" {
  description = "The address of the WebServer VIPs 20 and 21, which reuse ports 443 and 80 and so need an address of their own."
  type        = string
}

variable "core_servers" {
  description = "The Enterprise Imaging core servers, behind VIPs 1-19."
  type = list(object({
    label   = string
    address = string
  }))
}

variable "web_servers" {
  description = "The web servers (with and without XERO), behind VIPs 20 and 21."
  type = list(object({
    label   = string
    address = string
  }))
}
