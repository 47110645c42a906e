# shellcheck shell=bash
# The fixed backend (nginx returning a small body) and nginx configured as a tracing sidecar.

# The lines every nginx of the bench starts its configuration with (one worker in the foreground,
# its files under dir) and the keep-alive and temp-path lines of its http block.
nginx_conf_head() { # dir
  local dir=$1
  cat <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
daemon off;
events { worker_connections 4096; }
CONF
}

nginx_http_common() { # dir
  local dir=$1
  cat <<CONF
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp-body;
  proxy_temp_path $dir/tmp-proxy;
  fastcgi_temp_path $dir/tmp-fastcgi;
  uwsgi_temp_path $dir/tmp-uwsgi;
  scgi_temp_path $dir/tmp-scgi;
CONF
}

# The backend: 1 worker, keep-alive without a request limit, no access log, a 13-byte JSON body.
write_backend_conf() { # dir port
  local dir=$1 port=$2
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
$(nginx_conf_head "$dir")
http {
  access_log off;
$(nginx_http_common "$dir")
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      default_type application/json;
      return 200 '{"ok":true}\n';
    }
  }
}
CONF
}

# nginx as a tracing sidecar, configured as users would to compare with hoptrace: new ids on every
# request (\$request_id: 32 random hex = trace id; its first 16 hex = span id), traceparent and
# X-Request-Id set upstream, one JSON line per request to a file, 1 worker, keep-alive pool upstream.
# The access log is buffered (NGINX_LOG_BUFFER) like hoptrace's span writer; set it to "" for a
# write() per request.
write_nginx_sidecar_conf() { # dir port backend_port span_log
  local dir=$1 port=$2 backend=$3 spans=$4
  local buffer=${NGINX_LOG_BUFFER-buffer=64k flush=1s}
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
$(nginx_conf_head "$dir")
http {
$(nginx_http_common "$dir")

  map \$request_id \$span_id { "~^(?<s>.{16})" \$s; }
  log_format span escape=json
    '{"traceId":"\$request_id","id":"\$span_id","kind":"SERVER",'
    '"name":"\$request_method \$uri","timestamp":\$msec,"duration":\$request_time,'
    '"localEndpoint":{"serviceName":"bench"},'
    '"remoteEndpoint":{"ipv4":"\$remote_addr","port":\$remote_port},'
    '"tags":{"http.method":"\$request_method","http.path":"\$uri",'
    '"http.status_code":"\$status","http.request_id":"\$request_id",'
    '"upstream":"\$upstream_addr","upstream_time":"\$upstream_response_time"}}';
  access_log $spans span $buffer;

  upstream app {
    server 127.0.0.1:$backend;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header traceparent "00-\$request_id-\$span_id-01";
      proxy_set_header X-Request-Id \$request_id;
    }
  }
}
CONF
}

# Starts nginx on CPU $SERVER_CPU in the foreground (daemon off), as a child of this shell (so it
# can be waited for); the master's PID goes to $STARTED_PID.
start_nginx() { # dir
  local dir=$1
  # shellcheck disable=SC2086 # $NICE is empty or "nice -n N"
  $NICE taskset -c "$SERVER_CPU" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
    >"$dir/stdout.log" 2>&1 &
  STARTED_PID=$!
  track_pid "$STARTED_PID"
}
