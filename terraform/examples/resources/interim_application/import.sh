# An application is imported by its id (the client_id). Its secret cannot be read back:
# set (or change) client_secret_rotation afterwards to issue a new one into the state.
tofu import interim_application.prod_db 0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e
