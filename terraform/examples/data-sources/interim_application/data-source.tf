# An application made elsewhere (the portal, another configuration), found by its name.
data "interim_application" "crm" {
  name = "CRM"
}

output "crm_client_id" {
  value = data.interim_application.crm.client_id
}
