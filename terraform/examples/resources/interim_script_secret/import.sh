# A script secret is imported by its id. Its value is never read back: the next apply
# with a value_version sends the configured value again.
tofu import interim_script_secret.crm_api_token 0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e
