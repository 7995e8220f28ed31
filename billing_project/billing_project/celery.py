from common.workers import create_app

app = create_app("billing")
