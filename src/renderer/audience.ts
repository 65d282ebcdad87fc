/** The audience page (/audience): read-only, large type, for a projector. */
import { mount } from 'svelte';
import Audience from './screens/Audience.svelte';
import './styles.css';

mount(Audience, { target: document.getElementById('app')! });
