import DefaultTheme from 'vitepress/theme';
import type { Theme } from 'vitepress';
import QsModuleDemo from './QsModuleDemo.vue';
import TranslateDemo from './TranslateDemo.vue';
import './style.css';

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('TranslateDemo', TranslateDemo);
    app.component('QsModuleDemo', QsModuleDemo);
  },
} satisfies Theme;
