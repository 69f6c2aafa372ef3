//! Catalogue images: type by bytes, size and pixel limits, truncation, orientation, no metadata,
//! and storage (local directory; S3 against moto when `TEST_S3_ENDPOINT` is set).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Rgb, RgbImage};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

async fn upload(
    app: &TestApp,
    vendor: &str,
    bytes: Vec<u8>,
    name: &str,
    mime: &str,
) -> reqwest::Response {
    let part = Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(mime)
        .unwrap();
    app.req(Method::POST, &format!("/vendors/{vendor}/images"), &[WRITE])
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

/// A 40x20 JPEG: left half red, right half blue.
fn jpeg() -> Vec<u8> {
    let img = RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::new_rgb8(w, h)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// EXIF (TIFF, little endian) with Orientation = 6 (rotate 90° clockwise) and a GPS latitude.
fn exif_with_gps() -> Vec<u8> {
    let mut t: Vec<u8> = b"II*\0".to_vec();
    t.extend(8u32.to_le_bytes());
    // IFD0 at 8: two entries.
    t.extend(2u16.to_le_bytes());
    t.extend([0x12, 0x01, 3, 0]); // Orientation, SHORT
    t.extend(1u32.to_le_bytes());
    t.extend([6, 0, 0, 0]);
    t.extend([0x25, 0x88, 4, 0]); // GPSInfo IFD pointer, LONG
    t.extend(1u32.to_le_bytes());
    t.extend(38u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    // GPS IFD at 38: latitude ref and latitude (three rationals at 68).
    t.extend(2u16.to_le_bytes());
    t.extend([0x01, 0x00, 2, 0]); // GPSLatitudeRef, ASCII
    t.extend(2u32.to_le_bytes());
    t.extend([b'S', 0, 0, 0]);
    t.extend([0x02, 0x00, 5, 0]); // GPSLatitude, RATIONAL
    t.extend(3u32.to_le_bytes());
    t.extend(68u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    for (n, d) in [(1u32, 1u32), (57, 1), (4412, 100)] {
        t.extend(n.to_le_bytes());
        t.extend(d.to_le_bytes());
    }
    assert_eq!(t.len(), 92);
    t
}

/// `jpeg` with an APP1 EXIF segment right after its start marker.
fn with_exif(jpeg: &[u8], exif: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(2 + 6 + exif.len()).unwrap().to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(exif);
    out.extend(&jpeg[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in bytes {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A small PNG whose header claims `w` x `h` pixels (a decompression bomb's header).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut b = png(1, 1);
    // IHDR data starts at 16 (8 signature + 4 length + 4 type); CRC covers type + data.
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&b[12..29]);
    b[29..33].copy_from_slice(&crc.to_be_bytes());
    b
}

async fn fetch(app: &TestApp, url: &str) -> Vec<u8> {
    let res = app.req(Method::GET, url, &[READ]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_photo_comes_back_oriented_and_without_its_gps_position() {
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let photo = with_exif(&jpeg(), &exif_with_gps());
    // The fixture does carry EXIF orientation that the decoder sees.
    {
        let mut d = ImageReader::with_format(Cursor::new(&photo), ImageFormat::Jpeg)
            .into_decoder()
            .unwrap();
        assert!(d.exif_metadata().unwrap().is_some());
    }
    let b = expect(
        upload(&app, &v, photo, "photo.jpg", "image/jpeg").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (b["width"].as_u64(), b["height"].as_u64()),
        (Some(20), Some(40)),
        "rotated upright"
    );
    assert_eq!(b["contentType"], "image/jpeg");
    let stored = fetch(&app, b["url"].as_str().unwrap()).await;
    let mut d = ImageReader::with_format(Cursor::new(&stored), ImageFormat::Jpeg)
        .into_decoder()
        .unwrap();
    assert_eq!(d.dimensions(), (20, 40));
    assert!(d.exif_metadata().unwrap().is_none(), "no EXIF, so no GPS");
    assert!(!stored.windows(4).any(|w| w == b"Exif"));
    // Rotated clockwise: the red left half is now on top.
    let img = DynamicImage::from_decoder(d).unwrap().to_rgb8();
    let top = img.get_pixel(10, 5);
    assert!(top[0] > 200 && top[2] < 60, "top is red: {top:?}");
    let thumb = fetch(&app, b["thumbnailUrl"].as_str().unwrap()).await;
    assert!(image::load_from_memory(&thumb).is_ok());
}

#[tokio::test]
async fn png_and_webp_are_accepted_and_stored_as_jpeg() {
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let b = expect(
        upload(&app, &v, png(2000, 1000), "a.png", "image/png").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (b["width"].as_u64(), b["height"].as_u64()),
        (Some(1280), Some(640)),
        "resized to the display size"
    );
    let thumb = fetch(&app, b["thumbnailUrl"].as_str().unwrap()).await;
    let t = image::load_from_memory(&thumb).unwrap();
    assert_eq!((t.width(), t.height()), (320, 160));
    let mut webp = Cursor::new(Vec::new());
    DynamicImage::new_rgb8(30, 30)
        .write_to(&mut webp, ImageFormat::WebP)
        .unwrap();
    let b = expect(
        upload(&app, &v, webp.into_inner(), "a.webp", "image/webp").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["width"], 30);
}

#[tokio::test]
async fn an_oversized_file_is_413() {
    // The service's own body limit (6 MiB) lets the file reach the image check.
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let mut big = jpeg();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let b = expect(
        upload(&app, &v, big, "big.jpg", "image/jpeg").await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(b["code"], "vendor.image_too_large");
}

#[tokio::test]
async fn a_renamed_executable_is_415_whatever_it_claims() {
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend([0u8; 512]);
    let b = expect(
        upload(&app, &v, exe, "photo.jpg", "image/jpeg").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(b["code"], "vendor.image_unsupported");
    let elf = b"\x7fELF\x02\x01\x01\x00".repeat(64);
    expect(
        upload(&app, &v, elf, "cat.png", "image/png").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_before_decoding() {
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let bomb = png_claiming(60_000, 60_000);
    assert!(bomb.len() < 200, "a tiny file");
    let b = expect(
        upload(&app, &v, bomb, "bomb.png", "image/png").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "vendor.image_dimensions");
    // Within each side's limit but too many pixels for the allocation bound.
    let app = app_with(&[("VENDOR_IMAGE_MAX_ALLOC_BYTES", "1000000")]).await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let b = expect(
        upload(&app, &v, png_claiming(4000, 4000), "b.png", "image/png").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "vendor.image_dimensions");
}

#[tokio::test]
async fn a_truncated_jpeg_is_refused() {
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let mut cut = jpeg();
    cut.truncate(cut.len() / 2);
    let b = expect(
        upload(&app, &v, cut, "cut.jpg", "image/jpeg").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "vendor.image_invalid");
}

#[tokio::test]
async fn uploads_need_a_file_part_and_an_existing_vendor() {
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let res = app
        .req(Method::POST, &format!("/vendors/{v}/images"), &[WRITE])
        .multipart(Form::new().text("note", "no file"))
        .send()
        .await
        .unwrap();
    let b = expect(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(b["code"], "vendor.bad_upload");
    let b = expect(
        upload(&app, "nope", jpeg(), "a.jpg", "image/jpeg").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(b["code"], "vendor.vendor_not_found");
    let b = expect(
        app.req(Method::GET, &format!("/vendors/{v}/images/nope"), &[READ])
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(b["code"], "vendor.image_not_found");
}

#[tokio::test]
async fn images_are_stored_in_an_s3_compatible_bucket() {
    let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") else {
        eprintln!("skipped: set TEST_S3_ENDPOINT (moto_server) to run the S3 image store test");
        return;
    };
    platform::client::install_tls();
    let bucket = format!(
        "vendor-test-{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    let created = reqwest::Client::new()
        .put(format!("{}/{bucket}", endpoint.trim_end_matches('/')))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );
    let app = app_with(&[
        ("VENDOR_S3_BUCKET", bucket.as_str()),
        ("VENDOR_S3_ENDPOINT", endpoint.as_str()),
        ("VENDOR_S3_ACCESS_KEY_ID", "testing"),
        ("VENDOR_S3_SECRET_ACCESS_KEY", "testing"),
    ])
    .await;
    let v = vendor_id(&app, "Moto Kigali").await;
    let b: Value = expect(
        upload(&app, &v, png(64, 32), "a.png", "image/png").await,
        StatusCode::CREATED,
    )
    .await;
    let stored = fetch(&app, b["url"].as_str().unwrap()).await;
    let img = image::load_from_memory(&stored).unwrap();
    assert_eq!((img.width(), img.height()), (64, 32));
    let listing = reqwest::Client::new()
        .get(format!(
            "{}/{bucket}?list-type=2",
            endpoint.trim_end_matches('/')
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listing.contains("display.jpg") && listing.contains("thumb.jpg"),
        "{listing}"
    );
}
