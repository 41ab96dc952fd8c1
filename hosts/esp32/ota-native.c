/*
 * Telltale's ESP-IDF OTA bindings (app_update, esp_partition, esp_system): what embedded:update does not expose —
 * the running slot and its otadata state, mark-valid and rollback, and a restart. (Reading a slot back is the SDK's
 * embedded:storage/flash, which opens "nextota".)
 * The bootloader's rollback needs CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE (hosts/esp32/sdkconfig/sdkconfig.defaults).
 */
#include "xsmc.h"
#include "xsHost.h"

#include "esp_partition.h"
#include "esp_ota_ops.h"
#include "esp_system.h"

/* The label of the partition whose code runs ("ota_0"). */
void xs_telltale_ota_running(xsMachine *the)
{
	const esp_partition_t *partition = esp_ota_get_running_partition();
	if (!partition)
		xsUnknownError("no running partition");
	xsmcSetString(xsResult, (char *)partition->label);
}

/* The label of the partition an update is written to (the other OTA slot). */
void xs_telltale_ota_next(xsMachine *the)
{
	const esp_partition_t *partition = esp_ota_get_next_update_partition(NULL);
	if (!partition)
		xsUnknownError("no OTA partition to update (partition table or otadata)");
	xsmcSetString(xsResult, (char *)partition->label);
}

/* The running partition's otadata state: "new", "pending", "valid", "invalid", "aborted", "undefined" or "none". */
void xs_telltale_ota_state(xsMachine *the)
{
	esp_ota_img_states_t state;
	const esp_partition_t *partition = esp_ota_get_running_partition();
	if (!partition || (ESP_OK != esp_ota_get_state_partition(partition, &state))) {
		xsmcSetString(xsResult, "none");
		return;
	}
	switch (state) {
		case ESP_OTA_IMG_NEW: xsmcSetString(xsResult, "new"); break;
		case ESP_OTA_IMG_PENDING_VERIFY: xsmcSetString(xsResult, "pending"); break;
		case ESP_OTA_IMG_VALID: xsmcSetString(xsResult, "valid"); break;
		case ESP_OTA_IMG_INVALID: xsmcSetString(xsResult, "invalid"); break;
		case ESP_OTA_IMG_ABORTED: xsmcSetString(xsResult, "aborted"); break;
		default: xsmcSetString(xsResult, "undefined"); break;
	}
}

/* The running pending image is good: the bootloader keeps it. */
void xs_telltale_ota_confirm(xsMachine *the)
{
	esp_err_t err = esp_ota_mark_app_valid_cancel_rollback();
	if (ESP_OK != err)
		xsUnknownError("esp_ota_mark_app_valid_cancel_rollback failed: %d", err);
}

/* Gives up the running image and resets into the previous one; returns only when that is not possible. */
void xs_telltale_ota_reject(xsMachine *the)
{
	esp_err_t err = esp_ota_mark_app_invalid_rollback_and_reboot();
	xsUnknownError("esp_ota_mark_app_invalid_rollback_and_reboot failed: %d", err);
}

/* Points otadata back at the running partition (a completed image about to be overwritten must not boot). */
void xs_telltale_ota_bootRunning(xsMachine *the)
{
	esp_err_t err = esp_ota_set_boot_partition(esp_ota_get_running_partition());
	if (ESP_OK != err)
		xsUnknownError("esp_ota_set_boot_partition failed: %d", err);
}

void xs_telltale_ota_restart(xsMachine *the)
{
	esp_restart();
}
