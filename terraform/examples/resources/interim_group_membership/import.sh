# A membership is imported as <group_id>/<user_id>.
tofu import interim_group_membership.bob_on_call 0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e/0190c1f1-1b2c-7d3e-8f4a-5b6c7d8e9f0a
