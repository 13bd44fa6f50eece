# Sources of weft_proxy_init, relative to proxy/.
set(WEFT_PROXY_INIT_SOURCES
  src/init/command.cc
  src/init/init.cc
  src/init/iptables.cc
  src/init/rules.cc
)
