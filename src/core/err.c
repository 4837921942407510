/*
 * err.c - names and messages for the HK_E* table in err.h.
 */
#include "core/err.h"

const char *hk_strerror(int code)
{
	switch (code) {
	case HK_OK:
		return "success";
#define HK_ERR_MSG(name, msg) \
	case HK_E##name:      \
		return msg;
		HK_ERRNO_MAP(HK_ERR_MSG)
#undef HK_ERR_MSG
	default:
		return "unknown error";
	}
}

const char *hk_errname(int code)
{
	switch (code) {
	case HK_OK:
		return "OK";
#define HK_ERR_NAME(name, msg) \
	case HK_E##name:       \
		return #name;
		HK_ERRNO_MAP(HK_ERR_NAME)
#undef HK_ERR_NAME
	default:
		return "UNKNOWN";
	}
}
