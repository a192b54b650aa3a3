#!/bin/sh
# The sample app: busybox httpd serving a page that names the pod that answered.
mkdir -p /www
cat > /www/index.html <<HTML
<html><body>
<h1>Hello from navarch</h1>
<p>pod: $(hostname)</p>
</body></html>
HTML
exec httpd -f -p "${PORT:-8080}" -h /www
