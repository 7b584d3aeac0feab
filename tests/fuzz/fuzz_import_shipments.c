/*
 * fuzz_import_shipments.c - libFuzzer target: rows of the marketplace's
 * fulfilled-shipments report (tab-separated) under its real header row,
 * and a buyer-locale column as the CSV has.
 */
#include "fuzz_import.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import("amazon-order-id\tmerchant-order-id\tshipment-id\t"
	                   "shipment-item-id\tpurchase-date\tpayments-date\t"
	                   "shipment-date\treporting-date\tbuyer-locale\t"
	                   "estimated-arrival-date\tdelivery-date\t"
	                   "carrier\ttracking-number\n", data, size);
}
