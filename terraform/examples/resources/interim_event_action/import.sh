# An event action is imported by its id. Interim never shows its secrets: a webhook's signing
# secret stays null until you set one, a Slack URL is sent again by the next apply.
tofu import interim_event_action.provisioner 0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e
