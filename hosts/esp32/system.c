/*
	The esp32 host's system facts for health (hosts/esp32/system.ts): why the chip last reset, and free heap.
*/
#include "xsmc.h"
#include "esp_system.h"

/* esp_reset_reason_t as an integer (ESP_RST_POWERON 1, ESP_RST_SW 3, ESP_RST_PANIC 4, ESP_RST_TASK_WDT 6, ...). */
void xs_telltale_reset_reason(xsMachine *the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)esp_reset_reason());
}

/* Bytes of heap free now, all capabilities (esp_get_free_heap_size). */
void xs_telltale_free_heap(xsMachine *the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)esp_get_free_heap_size());
}
