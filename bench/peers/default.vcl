# Varnish with its built-in VCL (Debian's default behaviour): only the backend
# is declared, so every caching decision is the stock one. Rendered by
# bench/peers.go with the origin's address.
vcl 4.1;

backend default {
    .host = "{{.OriginHost}}";
    .port = "{{.OriginPort}}";
}
