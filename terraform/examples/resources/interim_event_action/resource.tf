variable "slack_webhook_url" {
  description = "The Slack incoming-webhook URL (a secret)."
  type        = string
  sensitive   = true
}

# A signed webhook to a provisioning service. Interim generates the signing secret,
# which stays in the state (sensitive) for the receiver's configuration.
resource "interim_event_action" "provisioner" {
  name        = "Provision production accounts"
  event_types = ["access_request.approved", "access_request.expired", "access_request.revoked"]
  kind        = "webhook"
  webhook_url = "https://provisioner.example.com/hooks/interim"
}

resource "interim_event_action" "security_channel" {
  name              = "Tell #security about denials"
  event_types       = ["access_request.denied", "access_request.escalated"]
  kind              = "slack"
  slack_webhook_url = var.slack_webhook_url
}

resource "interim_event_action" "audit_mail" {
  name             = "Mail the auditors"
  event_types      = ["access_request.approved"]
  kind             = "email"
  email_recipients = "addresses"
  email_addresses  = ["auditors@example.com"]
}

resource "interim_script" "announce" {
  name   = "Announce grants"
  source = "log.info('granted to ' + config.get('requester_email'));"
}

resource "interim_event_action" "announce" {
  name        = "Run the announce script"
  enabled     = false
  event_types = ["access_request.approved"]
  kind        = "script"
  script_id   = interim_script.announce.id
}

output "provisioner_signing_secret" {
  value     = interim_event_action.provisioner.webhook_signing_secret
  sensitive = true
}
