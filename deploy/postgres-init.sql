CREATE DATABASE streamify_gateway;
CREATE DATABASE streamify_auth;
CREATE DATABASE streamify_video;
CREATE DATABASE streamify_streaming;
CREATE DATABASE streamify_billing;
CREATE DATABASE streamify_analytics;
