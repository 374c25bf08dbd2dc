print("vlat")
