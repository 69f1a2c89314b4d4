# The brief's example, applied as written (with the interim_ prefix), plus the groups, the
# application and the mapping it refers to. The provider reads INTERIM_ENDPOINT and INTERIM_TOKEN.
terraform {
  required_providers {
    interim = {
      source = "interim-idp/interim"
    }
  }
}

provider "interim" {}

# Who approves production access, and who is asked when they do not answer in time.
resource "interim_group" "on_call_leads" {
  name        = "Production on-call leads"
  description = "Approve production access during incidents."
}

resource "interim_group" "engineering_managers" {
  name        = "Engineering managers"
  description = "Decide production access requests that the on-call leads left waiting."
}

# The database team holds the read-only role for good; everyone else gets it through a request.
resource "interim_group" "database_team" {
  name        = "Database team"
  description = "Permanent holders of production database access."
}

# The production database console, an OpenID Connect client of Interim.
resource "interim_application" "prod_db" {
  name          = "Production PostgreSQL console"
  description   = "Web console of the production PostgreSQL cluster."
  redirect_uris = ["https://db-console.example.com/oidc/callback"]
}

# Members of the database team, and anyone granted this mapping by an approved request, get
# db_role = "readonly" in the console's tokens.
resource "interim_app_mapping" "prod_readonly" {
  app_id       = interim_application.prod_db.id
  claim        = "db_role"
  value_string = "readonly"
  group_ids    = [interim_group.database_team.id]
}

# The brief's template, character for character (so `tofu fmt` would realign its "=" signs).
resource "interim_access_request_template" "prod_access" {
  name        = "Production environment access"
  description = "Grants production credentials for incident response."
  app_id      = interim_application.prod_db.id
  mapping_ids        = [interim_app_mapping.prod_readonly.id]
  allowed_durations  = [60, 240, 480]
  approver_group_ids = [interim_group.on_call_leads.id]
  require_justification = true
  auto_approve          = false
  notification_policy   = "random_n"
  notification_count    = 2
  escalation_after_mins = 15
  escalation_group_id   = interim_group.engineering_managers.id
}
