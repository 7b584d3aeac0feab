/*
 * fuzz_import_orders.c - libFuzzer target: rows of the marketplace's
 * all-orders report (tab-separated) under its real header row: dates,
 * order ids, statuses, quoting, line ends.
 */
#include "fuzz_import.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import("amazon-order-id\tmerchant-order-id\tpurchase-date"
	                   "\tlast-updated-date\torder-status\t"
	                   "fulfillment-channel\tsales-channel\t"
	                   "order-channel\tship-service-level\tproduct-name"
	                   "\tsku\tasin\titem-status\tquantity\tcurrency\t"
	                   "item-price\r\n", data, size);
}
