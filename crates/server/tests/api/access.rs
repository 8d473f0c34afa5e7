//! The permission matrix, built from the contract's own declarations: every RPC in the generated
//! access table is called with no token, with each role it does not allow, and (for tenant-scoped
//! RPCs) by an admin of another tenant. A new RPC without a row here fails the test.

use bytes::{Buf as _, BufMut as _};
use mm_kernel::{Role, TenantId};
use mm_proto::minimodules::booking::v1 as bpb;
use mm_proto::minimodules::catalog::v1 as catpb;
use mm_proto::minimodules::identity::v1 as idpb;
use mm_proto::minimodules::marketing::v1 as mpb;
use mm_proto::minimodules::ordering::v1 as opb;
use mm_proto::minimodules::payments::v1 as paypb;
use mm_proto::minimodules::tenant::v1 as pb;
use mm_proto::{METHODS, MethodAccess};
use mm_testkit::{TestApp, spawn_app, tenant_id};
use prost::Message as _;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Sends and receives already-encoded protobuf, so any RPC can be called by path.
#[derive(Clone, Default)]
struct RawCodec;

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

async fn call(
    app: &TestApp,
    path: &'static str,
    body: Vec<u8>,
    token: Option<&str>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut req = tonic::Request::new(body);
    if let Some(t) = token {
        req.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    let streaming = METHODS.iter().any(|m| m.path == path && m.server_streaming);
    let path = http::uri::PathAndQuery::from_static(path);
    if streaming {
        // A stream that opened was let through; its events are not this test's business.
        return grpc
            .server_streaming(req, path, RawCodec)
            .await
            .map(|_| Vec::new());
    }
    grpc.unary(req, path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

fn uuid_str() -> String {
    TenantId::new().to_string()
}

/// Whether the access layer itself refused a call: its refusals carry no ErrorInfo, while a
/// service's own errors (bad credentials, not found) always do.
fn refused_by_access_layer(status: &tonic::Status) -> bool {
    use tonic_types::StatusExt as _;
    matches!(
        status.code(),
        Code::Unauthenticated | Code::PermissionDenied
    ) && status.get_error_details().error_info().is_none()
}

/// Whether an RPC acts on one tenant (so another tenant's admin must be refused) or on the
/// platform's shared catalogue.
enum Scope {
    Tenant(Vec<u8>),
    Platform(Vec<u8>),
}

/// A request for each RPC aimed at tenant `t`.
fn request_for(method: &MethodAccess, t: TenantId, archivable: TenantId) -> Option<Scope> {
    let tn = format!("tenants/{t}");
    let name = method.path.rsplit('/').next()?;
    let tenant = |m: Vec<u8>| Some(Scope::Tenant(m));
    // Booking's names (CreateStaff) repeat identity's, so its rows are picked by service.
    if method.path.starts_with("/minimodules.booking.v1.") {
        return booking_request_for(name, &tn).map(Scope::Tenant);
    }
    // Payments' RefreshPayment shares its name with ordering's.
    if method.path.starts_with("/minimodules.payments.v1.") {
        return payments_request_for(name, &tn).map(Scope::Tenant);
    }
    if method.path.starts_with("/minimodules.marketing.v1.") {
        return marketing_request_for(name, &tn).map(Scope::Tenant);
    }
    match name {
        "CreateTenant" => Some(Scope::Platform(
            pb::CreateTenantRequest {
                tenant: Some(pb::Tenant {
                    slug: "matrix-shop".into(),
                    display_name_zh: "矩阵".into(),
                    ..Default::default()
                }),
                template_id: String::new(),
            }
            .encode_to_vec(),
        )),
        "ListTenants" => Some(Scope::Platform(
            pb::ListTenantsRequest::default().encode_to_vec(),
        )),
        "GetTenant" => tenant(pb::GetTenantRequest { name: tn }.encode_to_vec()),
        "UpdateTenant" => tenant(
            pb::UpdateTenantRequest {
                tenant: Some(pb::Tenant {
                    name: tn,
                    display_name_zh: "改".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name_zh".into()],
                }),
            }
            .encode_to_vec(),
        ),
        "ArchiveTenant" => tenant(
            pb::ArchiveTenantRequest {
                name: format!("tenants/{archivable}"),
            }
            .encode_to_vec(),
        ),
        "GetPaymentAccount" => tenant(
            pb::GetPaymentAccountRequest {
                name: format!("{tn}/paymentAccount"),
            }
            .encode_to_vec(),
        ),
        "UpdatePaymentAccount" => tenant(
            pb::UpdatePaymentAccountRequest {
                payment_account: Some(pb::PaymentAccount {
                    name: format!("{tn}/paymentAccount"),
                    mchid: "1900000001".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        "GetMerchantCredentials" => tenant(
            pb::GetMerchantCredentialsRequest {
                name: format!("{tn}/paymentAccount"),
            }
            .encode_to_vec(),
        ),
        "GetBranding" => tenant(
            pb::GetBrandingRequest {
                name: format!("{tn}/branding"),
            }
            .encode_to_vec(),
        ),
        "UpdateBranding" => tenant(
            pb::UpdateBrandingRequest {
                branding: Some(pb::Branding {
                    name: format!("{tn}/branding"),
                    primary_color: "#123456".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["primary_color".into()],
                }),
            }
            .encode_to_vec(),
        ),
        "ListTenantModules" => tenant(pb::ListTenantModulesRequest { parent: tn }.encode_to_vec()),
        "EnableModule" => tenant(
            pb::EnableModuleRequest {
                name: format!("{tn}/modules/identity"),
            }
            .encode_to_vec(),
        ),
        "DisableModule" => tenant(
            pb::DisableModuleRequest {
                name: format!("{tn}/modules/booking"),
            }
            .encode_to_vec(),
        ),
        "GetModuleConfig" => tenant(
            pb::GetModuleConfigRequest {
                name: format!("{tn}/modules/tenant/config"),
            }
            .encode_to_vec(),
        ),
        "UpdateModuleConfig" => tenant(
            pb::UpdateModuleConfigRequest {
                config: Some(pb::ModuleConfig {
                    name: format!("{tn}/modules/tenant/config"),
                    config: Some(Default::default()),
                    ..Default::default()
                }),
            }
            .encode_to_vec(),
        ),
        "LookupTenant" => Some(Scope::Platform(
            pb::LookupTenantRequest {
                shop: mm_testkit::appid_for("matrix-b"),
            }
            .encode_to_vec(),
        )),
        "GetAppConfig" => Some(Scope::Platform(
            pb::GetAppConfigRequest {
                wechat_appid: mm_testkit::appid_for("matrix-b"),
            }
            .encode_to_vec(),
        )),
        "ListModules" => Some(Scope::Platform(pb::ListModulesRequest {}.encode_to_vec())),
        "GetModule" => Some(Scope::Platform(
            pb::GetModuleRequest {
                name: "modules/ordering".into(),
            }
            .encode_to_vec(),
        )),
        "PasswordLogin" => Some(Scope::Platform(
            idpb::PasswordLoginRequest {
                tenant: tn,
                login_name: "nobody".into(),
                password: "wrong-password-1".into(),
            }
            .encode_to_vec(),
        )),
        "OperatorLogin" => Some(Scope::Platform(
            idpb::OperatorLoginRequest {
                login_name: "nobody".into(),
                password: "wrong-password-1".into(),
            }
            .encode_to_vec(),
        )),
        "WechatLogin" => Some(Scope::Platform(
            idpb::WechatLoginRequest {
                wechat_appid: mm_testkit::appid_for("matrix-b"),
                code: "no-such-code".into(),
            }
            .encode_to_vec(),
        )),
        "DevLogin" => Some(Scope::Platform(
            idpb::DevLoginRequest {
                wechat_appid: mm_server::demo::DEMO_APPID.into(),
                openid: "matrix".into(),
            }
            .encode_to_vec(),
        )),
        "RefreshSession" => Some(Scope::Platform(
            idpb::RefreshSessionRequest {
                refresh_token: "rt1.x.y".into(),
            }
            .encode_to_vec(),
        )),
        "Logout" => Some(Scope::Platform(idpb::LogoutRequest {}.encode_to_vec())),
        "ChangePassword" => Some(Scope::Platform(
            idpb::ChangePasswordRequest {
                current_password: "wrong-password-1".into(),
                new_password: "another-pass-2".into(),
            }
            .encode_to_vec(),
        )),
        "BindPhone" => Some(Scope::Platform(
            idpb::BindPhoneRequest {
                code: "no-such-code".into(),
            }
            .encode_to_vec(),
        )),
        "GetMe" => Some(Scope::Platform(idpb::GetMeRequest {}.encode_to_vec())),
        "UpdateMe" => Some(Scope::Platform(
            idpb::UpdateMeRequest {
                user: Some(idpb::User {
                    nickname: "矩阵".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["nickname".into()],
                }),
            }
            .encode_to_vec(),
        )),
        "GetUser" => tenant(
            idpb::GetUserRequest {
                name: format!("{tn}/users/{}", uuid_str()),
            }
            .encode_to_vec(),
        ),
        "ListUsers" => tenant(
            idpb::ListUsersRequest {
                parent: tn,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        "CreateStaff" => tenant(
            idpb::CreateStaffRequest {
                parent: tn,
                user: Some(idpb::User {
                    role: Role::Staff as i32,
                    display_name: "矩阵".into(),
                    login_name: format!("matrix-{}", &uuid_str()[..8]),
                    ..Default::default()
                }),
                password: "matrix-password-1".into(),
            }
            .encode_to_vec(),
        ),
        "UpdateUser" => tenant(
            idpb::UpdateUserRequest {
                user: Some(idpb::User {
                    name: format!("{tn}/users/{}", uuid_str()),
                    display_name: "x".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into()],
                }),
            }
            .encode_to_vec(),
        ),
        "DisableUser" => tenant(
            idpb::DisableUserRequest {
                name: format!("{tn}/users/{}", uuid_str()),
            }
            .encode_to_vec(),
        ),
        "EnableUser" => tenant(
            idpb::EnableUserRequest {
                name: format!("{tn}/users/{}", uuid_str()),
            }
            .encode_to_vec(),
        ),
        "GetWechatCredentials" => tenant(
            idpb::GetWechatCredentialsRequest {
                name: format!("{tn}/wechatCredentials"),
            }
            .encode_to_vec(),
        ),
        "SetWechatCredentials" => tenant(
            idpb::SetWechatCredentialsRequest {
                parent: tn,
                wechat_appid: mm_testkit::appid_for("matrix-b"),
                app_secret: "matrixsecret0123456789".into(),
            }
            .encode_to_vec(),
        ),
        "ListAuditEvents" => tenant(
            idpb::ListAuditEventsRequest {
                parent: tn,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        "CreateCategory" => tenant(
            catpb::CreateCategoryRequest {
                parent: tn,
                category: Some(catpb::Category {
                    display_name_zh: "热饮".into(),
                    ..Default::default()
                }),
            }
            .encode_to_vec(),
        ),
        "ListCategories" => tenant(catpb::ListCategoriesRequest { parent: tn }.encode_to_vec()),
        "UpdateCategory" => tenant(
            catpb::UpdateCategoryRequest {
                category: Some(catpb::Category {
                    name: format!("{tn}/categories/{}", uuid_str()),
                    sort_order: 1,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["sort_order".into()],
                }),
            }
            .encode_to_vec(),
        ),
        "DeleteCategory" => tenant(
            catpb::DeleteCategoryRequest {
                name: format!("{tn}/categories/{}", uuid_str()),
            }
            .encode_to_vec(),
        ),
        "CreateProduct" => tenant(
            catpb::CreateProductRequest {
                parent: tn.clone(),
                product: Some(catpb::Product {
                    category: format!("{tn}/categories/{}", uuid_str()),
                    display_name_zh: "拿铁".into(),
                    skus: vec![catpb::Sku {
                        price_fen: 1800,
                        unlimited: true,
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            }
            .encode_to_vec(),
        ),
        "GetProduct" => tenant(
            catpb::GetProductRequest {
                name: format!("{tn}/products/{}", uuid_str()),
            }
            .encode_to_vec(),
        ),
        "ListProducts" => tenant(
            catpb::ListProductsRequest {
                parent: tn,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        "UpdateProduct" => tenant(
            catpb::UpdateProductRequest {
                product: Some(catpb::Product {
                    name: format!("{tn}/products/{}", uuid_str()),
                    on_sale: false,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["on_sale".into()],
                }),
            }
            .encode_to_vec(),
        ),
        "DeleteProduct" => tenant(
            catpb::DeleteProductRequest {
                name: format!("{tn}/products/{}", uuid_str()),
            }
            .encode_to_vec(),
        ),
        "GetMenu" => Some(Scope::Platform(
            catpb::GetMenuRequest { parent: tn }.encode_to_vec(),
        )),
        "ResolveItems" | "ReserveStock" => {
            let items = vec![catpb::ItemRequest {
                product: format!("{tn}/products/{}", uuid_str()),
                sku_id: uuid_str(),
                quantity: 1,
            }];
            tenant(if name == "ResolveItems" {
                catpb::ResolveItemsRequest { parent: tn, items }.encode_to_vec()
            } else {
                catpb::ReserveStockRequest {
                    parent: tn,
                    reservation_id: uuid_str(),
                    items,
                }
                .encode_to_vec()
            })
        }
        "ReleaseStock" => tenant(
            catpb::ReleaseStockRequest {
                parent: tn,
                reservation_id: uuid_str(),
            }
            .encode_to_vec(),
        ),
        "SendSubscribeMessage" => tenant(
            idpb::SendSubscribeMessageRequest {
                name: format!("{tn}/users/{}", uuid_str()),
                template_id: "tmpl".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        "GetPayer" => tenant(
            idpb::GetPayerRequest {
                name: format!("{tn}/users/{}", uuid_str()),
            }
            .encode_to_vec(),
        ),
        "QuoteOrder" | "CreateOrder" => {
            let items = vec![opb::LineItemRequest {
                product: format!("{tn}/products/{}", uuid_str()),
                sku_id: uuid_str(),
                quantity: 1,
            }];
            let fulfilment = Some(opb::Fulfilment {
                mode: opb::FulfilmentMode::Takeaway as i32,
                ..Default::default()
            });
            tenant(if name == "QuoteOrder" {
                opb::QuoteOrderRequest {
                    parent: tn,
                    items,
                    fulfilment,
                    ..Default::default()
                }
                .encode_to_vec()
            } else {
                opb::CreateOrderRequest {
                    parent: tn,
                    items,
                    fulfilment,
                    request_id: uuid_str(),
                    ..Default::default()
                }
                .encode_to_vec()
            })
        }
        "ListOrders" => tenant(
            opb::ListOrdersRequest {
                parent: tn,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        "WatchOrders" => tenant(opb::WatchOrdersRequest { parent: tn }.encode_to_vec()),
        "GetOrder"
        | "PayOrder"
        | "RefreshPayment"
        | "ConfirmCounterPayment"
        | "CancelOrder"
        | "AcceptOrder"
        | "StartPreparingOrder"
        | "MarkOrderReady"
        | "CompleteOrder"
        | "RefundOrder" => {
            // Every one of these requests is a message whose field 1 is the order's name.
            let order = format!("{tn}/orders/{}", uuid_str());
            tenant(opb::GetOrderRequest { name: order }.encode_to_vec())
        }
        "OnPaymentEvent" => tenant(payment_event(&tn).encode_to_vec()),
        "ListIndustryTemplates" => Some(Scope::Platform(
            pb::ListIndustryTemplatesRequest {}.encode_to_vec(),
        )),
        _ => None,
    }
}

/// A well-formed request for each booking RPC aimed at the tenant named `tn`.
fn booking_request_for(name: &str, tn: &str) -> Option<Vec<u8>> {
    let at = |secs: i64| {
        Some(prost_types::Timestamp {
            seconds: secs,
            nanos: 0,
        })
    };
    let service = || bpb::Service {
        name: format!("{tn}/services/{}", uuid_str()),
        display_name: "剪发".into(),
        duration_minutes: 30,
        capacity: 1,
        active: true,
        ..Default::default()
    };
    let staff = || bpb::Staff {
        name: format!("{tn}/staff/{}", uuid_str()),
        display_name: "Tony".into(),
        kind: bpb::StaffKind::Person as i32,
        active: true,
        ..Default::default()
    };
    let (service_name, staff_name) = (
        format!("{tn}/services/{}", uuid_str()),
        format!("{tn}/staff/{}", uuid_str()),
    );
    let start = at(chrono::Utc::now().timestamp() / 1800 * 1800 + 86_400);
    let parent = tn.to_string();
    Some(match name {
        "CreateService" => bpb::CreateServiceRequest {
            parent,
            service: Some(service()),
        }
        .encode_to_vec(),
        "UpdateService" => bpb::UpdateServiceRequest {
            service: Some(service()),
        }
        .encode_to_vec(),
        "CreateStaff" => bpb::CreateStaffRequest {
            parent,
            staff: Some(staff()),
        }
        .encode_to_vec(),
        "UpdateStaff" => bpb::UpdateStaffRequest {
            staff: Some(staff()),
        }
        .encode_to_vec(),
        "CreateTimeOff" => bpb::CreateTimeOffRequest {
            parent,
            time_off: Some(bpb::TimeOff {
                start_time: at(2_000_000_000),
                end_time: at(2_000_086_400),
                ..Default::default()
            }),
        }
        .encode_to_vec(),
        "GetBookingSettings" => bpb::GetBookingSettingsRequest {
            name: format!("{tn}/bookingSettings"),
        }
        .encode_to_vec(),
        "ListAvailableSlots" => bpb::ListAvailableSlotsRequest {
            parent,
            service: service_name,
            staff: String::new(),
            start_date: "2026-12-01".into(),
            end_date: "2026-12-02".into(),
        }
        .encode_to_vec(),
        "HoldReservation" => bpb::HoldReservationRequest {
            parent,
            service: service_name,
            staff: staff_name,
            start_time: start,
            request_id: uuid_str(),
            note: String::new(),
            remind: false,
            ..Default::default()
        }
        .encode_to_vec(),
        "CreateManualReservation" => bpb::CreateManualReservationRequest {
            parent,
            service: service_name,
            staff: staff_name,
            start_time: start,
            contact_name: "王女士".into(),
            ..Default::default()
        }
        .encode_to_vec(),
        "RescheduleReservation" => bpb::RescheduleReservationRequest {
            name: format!("{tn}/reservations/{}", uuid_str()),
            start_time: start,
            staff: String::new(),
        }
        .encode_to_vec(),
        // Each of these is a message whose field 1 is the parent.
        "ListServices" | "ListStaff" | "ListTimeOffs" | "ListReservations"
        | "WatchReservations" => bpb::ListServicesRequest {
            parent,
            ..Default::default()
        }
        .encode_to_vec(),
        // And each of these one whose field 1 is the resource's name.
        "GetService" | "DeleteService" => {
            bpb::GetServiceRequest { name: service_name }.encode_to_vec()
        }
        "GetStaff" | "DeleteStaff" => bpb::GetStaffRequest { name: staff_name }.encode_to_vec(),
        "DeleteTimeOff" => bpb::DeleteTimeOffRequest {
            name: format!("{tn}/timeOffs/{}", uuid_str()),
        }
        .encode_to_vec(),
        "ConfirmReservation"
        | "CancelReservation"
        | "CompleteReservation"
        | "MarkNoShow"
        | "PayDeposit"
        | "RefreshDeposit"
        | "GetReservation" => bpb::GetReservationRequest {
            name: format!("{tn}/reservations/{}", uuid_str()),
        }
        .encode_to_vec(),
        "OnPaymentEvent" => payment_event(tn).encode_to_vec(),
        _ => return None,
    })
}

/// A payment's name at the tenant named `tn` (its id is a WeChat out_trade_no: a bare uuid).
fn payment_name(tn: &str) -> String {
    format!("{tn}/payments/{}", uuid_str().replace('-', ""))
}

/// What the payments module reports to a paying module's listener (`OnPaymentEvent`).
fn payment_event(tn: &str) -> paypb::PaymentEvent {
    paypb::PaymentEvent {
        payment: payment_name(tn),
        reference: uuid_str(),
        kind: paypb::PaymentEventKind::Paid as i32,
        transaction_id: "4200000000000000000000000000".into(),
        amount_fen: 100,
        ..Default::default()
    }
}

/// A well-formed request for each payments RPC aimed at the tenant named `tn`.
fn marketing_request_for(name: &str, tn: &str) -> Option<Vec<u8>> {
    let template = format!("{tn}/couponTemplates/{}", uuid_str());
    let order = format!("{tn}/orders/{}", uuid_str());
    let basket = || {
        Some(opb::DiscountBasket {
            customer: format!("{tn}/users/{}", uuid_str()),
            ..Default::default()
        })
    };
    Some(match name {
        "CreateCouponTemplate" => mpb::CreateCouponTemplateRequest {
            parent: tn.to_string(),
            template: Some(mpb::CouponTemplate {
                title_zh: "满100减20".into(),
                kind: mpb::CouponKind::Threshold as i32,
                amount_off_fen: 2_000,
                threshold_fen: 10_000,
                valid_days: 7,
                total_quantity: 10,
                per_customer_limit: 1,
                ..Default::default()
            }),
        }
        .encode_to_vec(),
        "GetCouponTemplate" => mpb::GetCouponTemplateRequest { name: template }.encode_to_vec(),
        "ListCouponTemplates" => mpb::ListCouponTemplatesRequest {
            parent: tn.to_string(),
            ..Default::default()
        }
        .encode_to_vec(),
        "UpdateCouponTemplate" => mpb::UpdateCouponTemplateRequest {
            template: Some(mpb::CouponTemplate {
                name: template,
                title_zh: "新标题".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["title_zh".into()],
            }),
        }
        .encode_to_vec(),
        "ClaimCoupon" => mpb::ClaimCouponRequest {
            template,
            request_id: uuid_str(),
        }
        .encode_to_vec(),
        "IssueCoupon" => mpb::IssueCouponRequest {
            template,
            customer: format!("{tn}/users/{}", uuid_str()),
            request_id: uuid_str(),
        }
        .encode_to_vec(),
        "ListCoupons" => mpb::ListCouponsRequest {
            parent: tn.to_string(),
            ..Default::default()
        }
        .encode_to_vec(),
        "GetMember" => mpb::GetMemberRequest {
            name: format!("{tn}/members/{}", uuid_str()),
        }
        .encode_to_vec(),
        "ListPointsEntries" => mpb::ListPointsEntriesRequest {
            parent: format!("{tn}/members/{}", uuid_str()),
            ..Default::default()
        }
        .encode_to_vec(),
        "AdjustPoints" => mpb::AdjustPointsRequest {
            member: format!("{tn}/members/{}", uuid_str()),
            delta: 10,
            reason: "补偿".into(),
            request_id: uuid_str(),
        }
        .encode_to_vec(),
        "QuoteDiscounts" => opb::QuoteDiscountsRequest {
            parent: tn.to_string(),
            basket: basket(),
        }
        .encode_to_vec(),
        "LockDiscounts" => opb::LockDiscountsRequest {
            order,
            basket: basket(),
        }
        .encode_to_vec(),
        "OnOrderDiscountEvent" => opb::OnOrderDiscountEventRequest {
            order,
            kind: opb::OrderDiscountEventKind::Released as i32,
            ..Default::default()
        }
        .encode_to_vec(),
        "LockDepositDiscounts" => mm_proto::minimodules::booking::v1::LockDepositDiscountsRequest {
            reservation: format!("{tn}/reservations/{}", uuid_str()),
            customer: format!("{tn}/users/{}", uuid_str()),
            deposit_fen: 1_000,
            ..Default::default()
        }
        .encode_to_vec(),
        "OnReservationDiscountEvent" => {
            mm_proto::minimodules::booking::v1::OnReservationDiscountEventRequest {
                reservation: format!("{tn}/reservations/{}", uuid_str()),
                kind: mm_proto::minimodules::booking::v1::ReservationDiscountEventKind::Released
                    as i32,
                ..Default::default()
            }
            .encode_to_vec()
        }
        "CreatePromotion" => {
            let at = |h: i64| {
                Some(mm_kernel::json::timestamp(
                    chrono::Utc::now() + chrono::Duration::hours(h),
                ))
            };
            mpb::CreatePromotionRequest {
                parent: tn.to_string(),
                promotion: Some(mpb::Promotion {
                    title_zh: "满100减20".into(),
                    kind: mpb::PromotionKind::Tiered as i32,
                    tiers: vec![mpb::PromotionTier {
                        threshold_fen: 10_000,
                        amount_off_fen: 2_000,
                    }],
                    start_time: at(0),
                    end_time: at(24),
                    ..Default::default()
                }),
            }
            .encode_to_vec()
        }
        "ListPromotions" => mpb::ListPromotionsRequest {
            parent: tn.to_string(),
            ..Default::default()
        }
        .encode_to_vec(),
        "UpdatePromotion" => mpb::UpdatePromotionRequest {
            promotion: Some(mpb::Promotion {
                name: format!("{tn}/promotions/{}", uuid_str()),
                title_zh: "新标题".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["title_zh".into()],
            }),
        }
        .encode_to_vec(),
        _ => return None,
    })
}

fn payments_request_for(name: &str, tn: &str) -> Option<Vec<u8>> {
    Some(match name {
        "CreatePayment" => paypb::CreatePaymentRequest {
            name: payment_name(tn),
            description: "订单 A0001".into(),
            amount_fen: 100,
            expire_time: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp() + 900,
                nanos: 0,
            }),
            payer: format!("{tn}/users/{}", uuid_str()),
            listener: "/minimodules.ordering.v1.OrderPaymentEvents/OnPaymentEvent".into(),
            reference: uuid_str(),
        }
        .encode_to_vec(),
        "RefreshPayment" => paypb::RefreshPaymentRequest {
            name: payment_name(tn),
        }
        .encode_to_vec(),
        "RefundPayment" => paypb::RefundPaymentRequest {
            name: payment_name(tn),
            refund_id: uuid_str().replace('-', ""),
            refund_fen: 100,
            total_fen: 100,
            reason: "退款".into(),
        }
        .encode_to_vec(),
        "ClosePayment" => paypb::ClosePaymentRequest {
            name: payment_name(tn),
        }
        .encode_to_vec(),
        "HandleWechatNotification" => paypb::HandleWechatNotificationRequest {
            parent: tn.to_string(),
            body: b"{}".to_vec(),
            ..Default::default()
        }
        .encode_to_vec(),
        _ => return None,
    })
}

#[tokio::test]
async fn every_rpc_enforces_its_declared_roles_and_tenant() {
    let app = spawn_app().await;
    let a = tenant_id(&app.create_tenant("matrix-a", "restaurant").await);
    let b = tenant_id(&app.create_tenant("matrix-b", "salon").await);
    // Archiving is final for the other RPCs, so it gets a tenant of its own.
    let c = tenant_id(&app.create_tenant("matrix-c", "salon").await);
    let all_roles = [
        Role::Customer,
        Role::Staff,
        Role::Admin,
        Role::Operator,
        Role::Service,
    ];
    let mut missing = Vec::new();
    let mut checked = 0;

    for m in METHODS.iter() {
        assert!(m.declared, "{} declares no access", m.path);
        let Some(scope) = request_for(m, b, c) else {
            missing.push(m.path);
            continue;
        };
        let body = match &scope {
            Scope::Tenant(b) | Scope::Platform(b) => b.clone(),
        };

        // No token.
        let res = call(&app, m.path, body.clone(), None).await;
        if m.public {
            assert!(
                res.as_ref()
                    .err()
                    .is_none_or(|s| !refused_by_access_layer(s)),
                "{} is public but refused anonymous: {res:?}",
                m.path
            );
        } else {
            assert_eq!(
                res.unwrap_err().code(),
                Code::Unauthenticated,
                "{} without a token",
                m.path
            );
        }

        // A garbage token is never accepted, even on public methods.
        let res = call(&app, m.path, body.clone(), Some("not.a.jwt")).await;
        assert_eq!(
            res.unwrap_err().code(),
            Code::Unauthenticated,
            "{} with a bad token",
            m.path
        );

        // Each role the declaration leaves out (staff with every permission, so only the role counts).
        for role in all_roles {
            if m.public || m.roles.contains(&role) {
                continue;
            }
            let tenant = (role != Role::Operator).then_some(b);
            let token = app.token(role, tenant, &["*"]);
            let res = call(&app, m.path, body.clone(), Some(&token)).await;
            assert_eq!(
                res.unwrap_err().code(),
                Code::PermissionDenied,
                "{} as {role:?}",
                m.path
            );
        }

        // Staff without the declared permission.
        if m.roles.contains(&Role::Staff) && !m.permission.is_empty() {
            let token = app.token(Role::Staff, Some(b), &["some.other.permission"]);
            let res = call(&app, m.path, body.clone(), Some(&token)).await;
            assert_eq!(
                res.unwrap_err().code(),
                Code::PermissionDenied,
                "{} as staff without {}",
                m.path,
                m.permission
            );
        }

        // Another tenant's admin and staff, for RPCs scoped to one tenant.
        if let Scope::Tenant(_) = scope {
            for role in [Role::Admin, Role::Staff, Role::Service] {
                if !m.roles.contains(&role) {
                    continue;
                }
                let token = app.token(role, Some(a), &["*"]);
                let res = call(&app, m.path, body.clone(), Some(&token)).await;
                assert_eq!(
                    res.unwrap_err().code(),
                    Code::PermissionDenied,
                    "{} as {role:?} of another tenant",
                    m.path
                );
            }
        }

        // And the allowed roles do get through (operators for everything they are declared on).
        if m.roles.contains(&Role::Operator) {
            let res = call(&app, m.path, body.clone(), Some(&app.operator())).await;
            assert!(
                res.as_ref()
                    .err()
                    .is_none_or(|s| !refused_by_access_layer(s)),
                "{} as operator: {res:?}",
                m.path
            );
        }
        checked += 1;
    }
    assert!(
        missing.is_empty(),
        "add a request to request_for() for: {missing:?}"
    );
    assert_eq!(checked, METHODS.len());
}

#[tokio::test]
async fn tokens_signed_elsewhere_or_for_another_audience_are_refused() {
    let app = spawn_app().await;
    let t = tenant_id(&app.create_tenant("token-shop", "restaurant").await);
    let principal = mm_kernel::Principal {
        subject: "x".into(),
        tenant: Some(t),
        role: Role::Admin,
        permissions: vec![],
        session: None,
    };
    let secret = secrecy::SecretString::from(mm_testkit::TEST_SECRET.to_string());
    let other_key = mm_kernel::auth::JwtKeys::new(
        "k1",
        &secrecy::SecretString::from("x".repeat(40)),
        &[],
        "minimodules",
        "minimodules",
        60,
    );
    let other_aud =
        mm_kernel::auth::JwtKeys::new("k1", &secret, &[], "minimodules", "someone-else", 60);
    let other_kid =
        mm_kernel::auth::JwtKeys::new("k9", &secret, &[], "minimodules", "minimodules", 60);
    let body = pb::GetTenantRequest {
        name: format!("tenants/{t}"),
    }
    .encode_to_vec();
    for keys in [other_key, other_aud, other_kid] {
        let token = keys.issue(&principal).unwrap();
        let res = call(
            &app,
            "/minimodules.tenant.v1.TenantService/GetTenant",
            body.clone(),
            Some(&token),
        )
        .await;
        assert_eq!(res.unwrap_err().code(), Code::Unauthenticated);
    }
    let good = app.admin_of(t);
    assert!(
        call(
            &app,
            "/minimodules.tenant.v1.TenantService/GetTenant",
            body,
            Some(&good)
        )
        .await
        .is_ok()
    );
}

#[tokio::test]
async fn tampered_claims_are_refused() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let a = tenant_id(&app.create_tenant("tamper-a", "restaurant").await);
    let b = tenant_id(&app.create_tenant("tamper-b", "salon").await);
    let token = app.admin_of(a);
    let parts: Vec<&str> = token.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
    // Same signature, claims moved to another tenant and promoted to operator.
    for forged in [
        claims.replace(&a.to_string(), &b.to_string()),
        claims.replace("\"admin\"", "\"operator\""),
    ] {
        assert_ne!(forged, claims);
        let token = format!("{}.{}.{}", parts[0], b64.encode(forged), parts[2]);
        let body = pb::GetTenantRequest {
            name: format!("tenants/{b}"),
        }
        .encode_to_vec();
        let res = call(
            &app,
            "/minimodules.tenant.v1.TenantService/GetTenant",
            body,
            Some(&token),
        )
        .await;
        assert_eq!(res.unwrap_err().code(), Code::Unauthenticated);
    }
}

#[tokio::test]
async fn tokens_of_a_rotated_key_stay_valid_while_the_old_key_is_listed() {
    let storage = mm_testkit::Storage::new().await;
    let old = storage.settings();
    let old_app = mm_testkit::spawn_with(old.clone()).await;
    let t = tenant_id(&old_app.create_tenant("rotate-shop", "restaurant").await);
    let old_token = old_app.admin_of(t);
    drop(old_app);

    let mut rotated = storage.settings();
    rotated.demo.seed = false;
    rotated.auth.jwt_kid = "k2".into();
    rotated.auth.jwt_secret = Some(secrecy::SecretString::from(
        "a-brand-new-secret-of-forty-bytes-000000".to_string(),
    ));
    rotated.auth.previous_jwt_secrets = Some(secrecy::SecretString::from(format!(
        "k1={}",
        mm_testkit::TEST_SECRET
    )));
    let app = mm_testkit::spawn_with(rotated.clone()).await;
    let body = pb::GetTenantRequest {
        name: format!("tenants/{t}"),
    }
    .encode_to_vec();
    assert!(
        call(
            &app,
            "/minimodules.tenant.v1.TenantService/GetTenant",
            body.clone(),
            Some(&old_token)
        )
        .await
        .is_ok()
    );
    let new_token = app.admin_of(t);
    assert!(new_token.split('.').next().is_some_and(|h| {
        use base64::Engine as _;
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
        .contains("\"k2\"")
    }));
    drop(app);

    // Once the old key is dropped from the list, its tokens stop working.
    rotated.auth.previous_jwt_secrets = None;
    let app = mm_testkit::spawn_with(rotated).await;
    let res = call(
        &app,
        "/minimodules.tenant.v1.TenantService/GetTenant",
        body,
        Some(&old_token),
    )
    .await;
    assert_eq!(res.unwrap_err().code(), Code::Unauthenticated);
}
