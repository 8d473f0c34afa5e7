import { installWx } from '../support/wx';
import { applyChrome, normalise, onColor, themeStyle, DEFAULT_THEME } from '../../miniprogram/core/theme';

describe('theme', () => {
  it('turns the tenant theme into CSS variables for the page root', () => {
    const style = themeStyle({ primary_color: '#e4393c', secondary_color: '#FFB400', background_color: '#FFF8F0', text_color: '#333' });
    expect(style).toBe(
      '--mm-primary:#E4393C;--mm-on-primary:#ffffff;--mm-secondary:#FFB400;--mm-on-secondary:#000000;--mm-bg:#FFF8F0;--mm-text:#333',
    );
  });

  it('keeps anything but a hex colour out of the style attribute', () => {
    const t = normalise({ primary_color: 'red;background:url(https://x)', text_color: '#12345', logo_url: 'http://insecure/logo.png' });
    expect(t.primary_color).toBe(DEFAULT_THEME.primary_color);
    expect(t.text_color).toBe(DEFAULT_THEME.text_color);
    expect(t.logo_url).toBe('');
    expect(themeStyle(undefined)).toContain(`--mm-primary:${DEFAULT_THEME.primary_color}`);
  });

  it('picks the readable one of black and white for text on a colour', () => {
    expect(onColor('#000000')).toBe('#ffffff');
    expect(onColor('#FFFFFF')).toBe('#000000');
    expect(onColor('#FFB400')).toBe('#000000');
    expect(onColor('#1E3A8A')).toBe('#ffffff');
  });

  it('colours the navigation bar and names the page', () => {
    const w = installWx();
    applyChrome({ theme: { primary_color: '#E4393C' }, display_name: '示例餐厅' } as never, '点单');
    const bar = w.calls.find((c) => c.api === 'setNavigationBarColor')!.args;
    expect(bar).toMatchObject({ frontColor: '#ffffff', backgroundColor: '#E4393C' });
    expect(w.calls.find((c) => c.api === 'setNavigationBarTitle')!.args.title).toBe('点单');
  });
});
