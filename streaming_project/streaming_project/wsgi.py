from common.serving import wsgi_application

application = wsgi_application("streaming")
