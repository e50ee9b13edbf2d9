print("bench-replay: placeholder until the replay benchmark lands")
