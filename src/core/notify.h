/*
 * notify.h - the systemd readiness protocol (sd_notify) without libsystemd:
 * one datagram to $NOTIFY_SOCKET. A no-op when the variable is unset.
 */
#ifndef HK_NOTIFY_H
#define HK_NOTIFY_H

/* notify_send sends a state such as "READY=1" or "STOPPING=1"; 0 or an HK_E* code */
int notify_send(const char *state);

#endif
