# A template is imported by its id.
tofu import interim_access_request_template.billing_admin 0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d11
