# Who may ask, who decides, and who is escalated to.
resource "interim_group" "billing_engineers" {
  name = "Billing engineers"
}

resource "interim_group" "billing_leads" {
  name = "Billing leads"
}

resource "interim_group" "finance_managers" {
  name = "Finance managers"
}

resource "interim_application" "billing" {
  name          = "Billing console"
  redirect_uris = ["https://billing.example.com/oidc/callback"]
}

# What an approved request grants: billing_role = "admin" in the console's tokens.
resource "interim_app_mapping" "billing_admin" {
  app_id       = interim_application.billing.id
  claim        = "billing_role"
  value_string = "admin"
  group_ids    = [interim_group.billing_leads.id]
}

# Runs on every event of requests made from the template (submitted, approved, expired, ...).
resource "interim_script" "billing_audit" {
  name   = "Billing access audit"
  source = "log.info('billing access', config.get('trigger_event'), config.get('requester_email'));"
}

resource "interim_access_request_template" "billing_admin" {
  name        = "Billing console admin"
  description = "Refunds and plan changes beyond the support limits."
  enabled     = true
  app_id      = interim_application.billing.id
  mapping_ids = [interim_app_mapping.billing_admin.id]

  # Minutes; a set, so the order does not matter.
  allowed_durations = [30, 120]

  # Only billing engineers may ask; billing leads decide, finance managers after 30 minutes.
  requester_group_ids   = [interim_group.billing_engineers.id]
  approver_group_ids    = [interim_group.billing_leads.id]
  escalation_after_mins = 30
  escalation_group_id   = interim_group.finance_managers.id

  require_justification = true
  auto_approve          = false
  notification_policy   = "first_n"
  notification_count    = 1

  # Approvers may not decide these requests in bulk from their inbox: each is looked at on its own.
  allow_bulk_decisions = false

  # What the requester fills in, in this order.
  custom_field {
    key      = "ticket"
    label    = "Support ticket"
    type     = "text"
    required = true
  }

  custom_field {
    key     = "reason"
    label   = "Kind of change"
    type    = "dropdown"
    options = ["refund", "plan change", "invoice correction"]
  }

  custom_field {
    key      = "four_eyes"
    label    = "A second person checks the change"
    type     = "checkbox"
    required = true
  }

  trigger {
    script_id    = interim_script.billing_audit.id
    failure_mode = "retry"
    max_retries  = 5
  }
}
