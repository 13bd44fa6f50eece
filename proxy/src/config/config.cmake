# Sources of weft_proxy_config, relative to proxy/.
set(WEFT_PROXY_CONFIG_SOURCES
  src/config/snapshot.cc
  src/config/loader.cc
  src/config/file_watcher.cc
)
