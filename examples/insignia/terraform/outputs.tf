output "virtual_service_ids" {
  description = "The VIPs' ids, by label."
  value       = { for name, vs in lbappliance_virtual_service.insignia : name => vs.id }
}
