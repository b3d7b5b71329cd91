output "virtual_service_ids" {
  description = "The VIPs' ids, by the guide's names."
  value = {
    "AVS-Redirect" = lbappliance_virtual_service.avs_redirect.id
    "AVS"          = lbappliance_virtual_service.avs.id
    "AVS-AQI"      = lbappliance_virtual_service.avs_aqi.id
  }
}

output "certificate_fingerprint" {
  description = "SHA-256 fingerprint of the certificate AVS presents."
  value       = lbappliance_certificate.intuition.fingerprint_sha256
}
