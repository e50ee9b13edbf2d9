print("bench-auth: placeholder until the auth benchmark lands")
