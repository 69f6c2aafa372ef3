//! Catalogue images: the type decided by the bytes, dimensions checked before decoding, EXIF
//! orientation applied, then a display copy and a thumbnail re-encoded as JPEG with no metadata
//! (so no GPS position or camera serial leaves with a photo). CPU only: callers run it off the
//! async runtime.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

/// JPEG quality of the stored copies.
const QUALITY: u8 = 85;

/// How far an upload may go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImageLimits {
    /// Largest width or height decoded.
    pub(crate) max_dimension: u32,
    /// Most bytes one decode may allocate.
    pub(crate) max_alloc: u64,
    /// Longest side of the display copy.
    pub(crate) display_px: u32,
    /// Longest side of the thumbnail.
    pub(crate) thumb_px: u32,
}

/// The stored copies.
#[derive(Debug)]
pub(crate) struct Processed {
    /// Display JPEG.
    pub(crate) display: Vec<u8>,
    /// Thumbnail JPEG.
    pub(crate) thumb: Vec<u8>,
    /// Display width.
    pub(crate) width: u32,
    /// Display height.
    pub(crate) height: u32,
}

/// Why an upload is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not a JPEG, PNG or WebP by its bytes.
    Unsupported,
    /// Larger than the limits once decoded (a decompression bomb, or just too big).
    Dimensions(String),
    /// Truncated or corrupt.
    Invalid,
}

/// The format by magic bytes; the declared content type and file name are never trusted.
pub(crate) fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// Whether the file ends where its format says it must. Decoders of truncated data may fill the
/// missing rows instead of failing, so the end is checked first.
fn complete(bytes: &[u8], format: ImageFormat) -> bool {
    match format {
        // End of image marker; some encoders pad with zero bytes after it.
        ImageFormat::Jpeg => {
            let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            end >= 4 && bytes[..end].ends_with(&[0xFF, 0xD9])
        }
        // The IEND chunk with its fixed CRC.
        ImageFormat::Png => bytes.ends_with(b"IEND\xAE\x42\x60\x82"),
        // The RIFF size covers the whole file.
        ImageFormat::WebP => bytes
            .get(4..8)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .and_then(|s| usize::try_from(u32::from_le_bytes(s)).ok())
            .is_some_and(|n| n.saturating_add(8) <= bytes.len()),
        _ => false,
    }
}

fn refuse(e: &ImageError, limits: &ImageLimits) -> Refused {
    match e {
        ImageError::Limits(l) => Refused::Dimensions(format!(
            "{l}; at most {} pixels per side and {} bytes decoded",
            limits.max_dimension, limits.max_alloc
        )),
        ImageError::Unsupported(_) => Refused::Unsupported,
        _ => Refused::Invalid,
    }
}

/// Decodes, orients, resizes and re-encodes an upload.
pub(crate) fn process(bytes: &[u8], limits: &ImageLimits) -> Result<Processed, Refused> {
    let format = sniff(bytes).ok_or(Refused::Unsupported)?;
    if !complete(bytes, format) {
        return Err(Refused::Invalid);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_dimension);
    l.max_image_height = Some(limits.max_dimension);
    l.max_alloc = Some(limits.max_alloc);
    reader.limits(l);
    let mut decoder = reader.into_decoder().map_err(|e| refuse(&e, limits))?;
    // The header alone says how large the decoded image would be: check before any pixel.
    let (w, h) = decoder.dimensions();
    let need = u64::from(w) * u64::from(h) * 4;
    if w > limits.max_dimension || h > limits.max_dimension || need > limits.max_alloc {
        return Err(Refused::Dimensions(format!(
            "the image is {w}x{h} pixels; at most {} per side and {} bytes decoded",
            limits.max_dimension, limits.max_alloc
        )));
    }
    if w == 0 || h == 0 {
        return Err(Refused::Invalid);
    }
    let orientation = decoder.orientation().map_err(|e| refuse(&e, limits))?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| refuse(&e, limits))?;
    img.apply_orientation(orientation);
    let display = if img.width().max(img.height()) > limits.display_px {
        img.resize(limits.display_px, limits.display_px, FilterType::Triangle)
    } else {
        img
    };
    let thumb = if display.width().max(display.height()) > limits.thumb_px {
        display.thumbnail(limits.thumb_px, limits.thumb_px)
    } else {
        display.clone()
    };
    Ok(Processed {
        width: display.width(),
        height: display.height(),
        display: encode(&display)?,
        thumb: encode(&thumb)?,
    })
}

/// JPEG of the pixels only: the encoder is given no EXIF, ICC or comment.
fn encode(img: &DynamicImage) -> Result<Vec<u8>, Refused> {
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&rgb)
        .map_err(|_| Refused::Invalid)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ImageLimits = ImageLimits {
        max_dimension: 8000,
        max_alloc: 256 * 1024 * 1024,
        display_px: 64,
        thumb_px: 16,
    };

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn formats_are_told_by_their_bytes() {
        assert_eq!(sniff(&png(2, 2)), Some(ImageFormat::Png));
        assert_eq!(sniff(b"MZ\x90\x00"), None);
        assert_eq!(
            sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 "),
            Some(ImageFormat::WebP)
        );
    }

    #[test]
    fn a_large_png_is_resized_and_comes_back_as_jpeg() {
        let p = process(&png(200, 100), &LIMITS).unwrap();
        assert_eq!((p.width, p.height), (64, 32));
        assert_eq!(sniff(&p.display), Some(ImageFormat::Jpeg));
        assert_eq!(sniff(&p.thumb), Some(ImageFormat::Jpeg));
    }

    #[test]
    fn a_truncated_png_is_refused() {
        let mut b = png(20, 20);
        b.truncate(b.len() - 10);
        assert_eq!(process(&b, &LIMITS).unwrap_err(), Refused::Invalid);
    }
}
