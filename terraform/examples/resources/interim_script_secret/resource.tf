variable "crm_api_token" {
  description = "The CRM's API token, for the provisioning script."
  type        = string
  sensitive   = true
}

# The value is write-only: sent to Interim, never stored in the state.
# To replace it, change the value and increment value_version.
resource "interim_script_secret" "crm_api_token" {
  name          = "CRM_API_TOKEN"
  value         = var.crm_api_token
  value_version = 1
}
