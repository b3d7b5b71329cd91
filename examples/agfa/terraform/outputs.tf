output "virtual_service_ids" {
  description = "The VIPs' ids, by the guide's names."
  value       = { for name, vs in lbappliance_virtual_service.agfa : name => vs.id }
}
