resource "interim_group" "db_readers" {
  name = "Production database readers"
}

resource "interim_application" "prod_db" {
  name          = "Production database console"
  redirect_uris = ["https://db-console.example.com/oidc/callback"]
}

# Members of the groups get roles = ["readonly"] in the console's tokens.
resource "interim_app_mapping" "prod_readonly" {
  app_id      = interim_application.prod_db.id
  claim       = "roles"
  value_list  = ["readonly"]
  group_ids   = [interim_group.db_readers.id]
  description = "Read-only access to production data."
}

# A value may also be one string (value_string) or a flag (value_bool).
resource "interim_app_mapping" "prod_break_glass" {
  app_id     = interim_application.prod_db.id
  claim      = "break_glass"
  value_bool = true
  group_ids  = [interim_group.db_readers.id]
}
