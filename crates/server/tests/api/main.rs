//! Integration tests: the real server on ephemeral ports, called over gRPC, grpc-web and HTTP, on
//! the backend MM_TEST_BACKEND names (sqlite, or postgres which also brings Redis).

mod access;
mod booking;
mod booking_pay;
mod boot;
mod catalog;
mod cli;
mod contract;
mod faults;
mod helpers;
mod identity;
mod malformed;
mod marketing;
mod marketing_checkout;
mod migrations;
mod modules;
mod ordering;
mod payments;
mod protocols;
mod redis_outage;
mod reliability;
mod rls;
mod security;
mod shutdown;
mod tenants;
