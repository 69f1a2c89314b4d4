# A user is imported by its id (the initial password is never read back).
tofu import interim_user.alice 0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e
