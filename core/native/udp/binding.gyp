{
  "targets": [
    {
      "target_name": "tsradius_udp",
      "sources": ["src/udp.c", "src/md5.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
