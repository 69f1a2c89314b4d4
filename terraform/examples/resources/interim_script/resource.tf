resource "interim_script_secret" "crm_api_token" {
  name          = "CRM_API_TOKEN"
  value         = var.crm_api_token
  value_version = 1
}

variable "crm_api_token" {
  type      = string
  sensitive = true
}

# Gives the requester a CRM role while their access lasts. `source` could also be
# file("${path.module}/provision-crm.js").
resource "interim_script" "provision_crm" {
  name          = "Provision CRM access"
  description   = "Adds the requester to the CRM's support role, and removes them when access ends."
  allowed_hosts = ["crm.example.com"]
  secret_ids    = [interim_script_secret.crm_api_token.id]
  source        = <<-JS
    const event = config.get('trigger_event');
    const grant = event === 'approved';
    const res = await http.fetch('https://crm.example.com/api/roles/support/members', {
      method: grant ? 'POST' : 'DELETE',
      headers: { authorization: 'Bearer ' + secrets.get('CRM_API_TOKEN') },
      body: JSON.stringify({ email: config.get('requester_email') }),
    });
    log.info('CRM answered ' + res.status);
  JS
}
