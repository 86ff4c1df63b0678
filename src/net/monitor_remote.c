/* monitor_remote.c - (stage stub) */
#include "net/net_int.h"

int axn_mon_monitor(void *arg, ax_id watcher, ax_id target) { (void)arg; (void)watcher; (void)target; return AX_ENOTSUP; }
int axn_mon_demonitor(void *arg, ax_id watcher, ax_id target) { (void)arg; (void)watcher; (void)target; return AX_ENOENT; }
void axn_mon_on_frame(axn_link *l, uint32_t type, const char *payload, size_t len) { (void)l; (void)type; (void)payload; (void)len; }
int axn_mon_on_down(axn_link *l, ax_id to, ax_id who) { (void)l; (void)to; (void)who; return 0; }
void axn_mon_down_sent(axn_link *l, ax_id watcher, ax_id who) { (void)l; (void)watcher; (void)who; }
void axn_mon_link_lost(axn_link *l) { (void)l; }
void axn_mon_free(axn_net *n) { (void)n; }
int axn_mon_cache_watch(axn_net *n, ax_id target) { (void)n; (void)target; return 0; }
