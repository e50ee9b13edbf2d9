print("session-gateway")
