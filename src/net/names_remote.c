/* names_remote.c - (stage stub) */
#include "net/net_int.h"

void axn_names_on_query(axn_link *l, const char *payload, size_t len) { (void)l; (void)payload; (void)len; }
void axn_names_on_answer(axn_link *l, const char *payload, size_t len) { (void)l; (void)payload; (void)len; }
void axn_names_link_lost(axn_net *n, axn_link *l) { (void)n; (void)l; }
void axn_names_target_down(axn_net *n, ax_id target) { (void)n; (void)target; }
void axn_names_free(axn_net *n) { (void)n; }
